from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    explanation: str


STAGES = {
    "docs": Stage("docs", "Public docs", "Reading documentation. No credentials are involved."),
    "account": Stage("account", "Account", "Account and team settings. No API credentials "
                     "are used here."),
    "sandbox": Stage("sandbox", "Sandbox", "Test keys, test webhooks and fake data."),
    "production": Stage("production", "Production", "Live keys and real data."),
}


def stage(request) -> dict:
    """The default stage band; workspace views put their own `stage` in their context."""
    match = getattr(request, "resolver_match", None)
    on_docs = match is not None and match.namespace == "docs"
    return {"stage": STAGES["docs" if on_docs else "account"]}
