"""Re-signing a Bedrock request for the real upstream (`mockbay record --aws-sign`).

A SigV4 signature covers the host it was sent to, so the client's signature, made for the
recorder's address, fails at AWS. With `--aws-sign` the recorder signs the forwarded request
again, for the region and service of the client's credential scope, with the credentials
botocore finds on this machine (environment, profile, instance role). botocore is needed only
then; it comes with `pip install "anthropic[bedrock]"` or `boto3`.
"""

from __future__ import annotations

import re
from typing import Any

from multidict import CIMultiDict

from mockbay.errors import MockbayError

SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
REPLACED = frozenset({"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "host"})


def machine_credentials() -> Any:
    """This machine's AWS credentials, or a MockbayError saying what is missing."""
    try:
        from botocore.session import get_session  # type: ignore[import-untyped]
    except ImportError:
        raise MockbayError('--aws-sign needs botocore: pip install "anthropic[bedrock]" (or boto3)') from None
    credentials = get_session().get_credentials()
    if credentials is None:
        raise MockbayError("--aws-sign found no AWS credentials (AWS_ACCESS_KEY_ID, a profile or a role)")
    return credentials


def resign(
    credentials: Any, method: str, url: str, headers: CIMultiDict[str], body: bytes
) -> CIMultiDict[str]:
    """`headers` with the client's SigV4 signature replaced by one for `url`; unchanged when the
    client did not sign with SigV4."""
    scope = SCOPE.search(headers.get("authorization", ""))
    if scope is None:
        return headers
    from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
    from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]

    kept = {name: value for name, value in headers.items() if name.lower() not in REPLACED}
    request = AWSRequest(method=method, url=url, data=body, headers=kept)
    SigV4Auth(credentials, scope.group(2), scope.group(1)).add_auth(request)
    return CIMultiDict((name, str(value)) for name, value in request.headers.items())
