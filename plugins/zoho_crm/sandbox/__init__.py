"""The Zoho CRM stand-in served by ``pmhub sandbox``, apart from the connector.

``routes`` answers the OAuth token endpoint and the CRM REST API; ``state`` stores and validates
records (and loads the "demo" seed); ``metadata`` declares the modules' fields; ``coql`` parses the
COQL subset the stand-in understands.
"""

from .routes import ZohoCrmSandbox

__all__ = ["ZohoCrmSandbox"]
