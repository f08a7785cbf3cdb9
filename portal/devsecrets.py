"""The secrets' development values, public in this repository, and who still holds one.

Pure: settings.py calls it at start-up (refusing to start outside development), the
`portal.E001` deploy check calls it for `make check-deploy`.
"""

from collections.abc import Mapping

DEVELOPMENT_SECRETS = {
    "SECRET_KEY": "dev-only-insecure-key-" + "x" * 40,
    "API_KEY_PEPPER": "dev-only-api-key-pepper",
    "WEBHOOK_SECRET_KEYS": "EUcOW4YEK8us9fe9OoHSoMzMzwLR3ylqftkr4ybooyw=",
    "GATEWAY_SERVICE_TOKEN": "dev-gateway-token",
}


def development_secrets_in(values: Mapping[str, object]) -> list[str]:
    """Names of the secrets in `values` that hold (or, for a list, include) a development value."""
    found = []
    for name, development_value in DEVELOPMENT_SECRETS.items():
        value = values.get(name)
        held = value if isinstance(value, (list, tuple)) else [value]
        if development_value in held:
            found.append(name)
    return found


def refusal(names: list[str]) -> str:
    """The sentence explaining why the portal will not serve with these secrets."""
    return (f"Development values published in this repository: {', '.join(names)}. Set real "
            "secrets (README: Deploying), or run with PORTAL_ENV=development and DEBUG on.")
