"""schemathesis hooks for the API's bounded test (tests/it/openapi.rs).

A tus PATCH body (application/offset+octet-stream) is raw bytes, as an
application/octet-stream body is; schemathesis has no serializer of its
own for it.
"""

import schemathesis

schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
