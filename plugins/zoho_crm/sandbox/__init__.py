"""The Zoho CRM stand-in served by ``pmhub sandbox``, apart from the connector.

``routes`` answers the OAuth token endpoint and the CRM REST API; ``state`` stores and validates
records; ``metadata`` declares the modules' fields; ``coql`` parses the COQL subset the stand-in
understands; ``seed`` the "demo" accounts, deals and cases.
"""

from .routes import ZohoCrmSandbox

__all__ = ["ZohoCrmSandbox"]
