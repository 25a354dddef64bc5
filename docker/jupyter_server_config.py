"""Server settings baked into the course image: a token is always required.

The server takes its token from ``JUPYTER_TOKEN`` (``start-lab`` generates one
when it is unset). An empty token would switch authentication off; the
identity provider below refuses one, so no setting can open the server to
anyone who reaches its port.
"""

from jupyter_server.auth.identity import IdentityProvider
from traitlets import TraitError, validate

c = get_config()  # noqa: F821 -- provided by traitlets when it loads this file


class TokenRequired(IdentityProvider):
    """The default identity provider, except that the token can never be empty."""

    @validate("token")
    def _token_not_empty(self, proposal):
        if not proposal["value"]:
            raise TraitError(
                "This image always requires a token: set JUPYTER_TOKEN to a secret, "
                "or leave it unset to have one generated."
            )
        return proposal["value"]


c.ServerApp.identity_provider_class = TokenRequired
