from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    explanation: str


STAGES = {
    "docs": Stage("docs", "Public docs", "Reading documentation. No credentials are involved."),
    "account": Stage("account", "Account", "Your account. No API credentials are used here."),
    "sandbox": Stage("sandbox", "Sandbox", "Test keys, test webhooks and fake data."),
    "production": Stage("production", "Production", "Live keys and real data."),
}


def stage(request) -> dict:
    """The default stage band; workspace views put their own `stage` in their context."""
    match = getattr(request, "resolver_match", None)
    on_docs = match is not None and match.namespace == "docs"
    signed_in = getattr(request, "user", None) is not None and request.user.is_authenticated
    key = "account" if signed_in and not on_docs else "docs"
    return {"stage": STAGES[key]}
