"""Security headers on every response, with the ``secure`` library.

The pages load only their own script and style sheet (``/static``), so the
content security policy allows ``'self'`` and nothing inline except style
attributes (progress bars set their width). No page may be framed. Dynamic
responses carry personal data, so none is stored by a browser or proxy
cache; HSTS is sent when the request came over TLS (through the proxy's
``X-Forwarded-Proto``).
"""

from __future__ import annotations

from fastapi import Request, Response
from secure import (
    CacheControl,
    ContentSecurityPolicy,
    CrossOriginOpenerPolicy,
    CrossOriginResourcePolicy,
    PermissionsPolicy,
    ReferrerPolicy,
    Secure,
    StrictTransportSecurity,
    XContentTypeOptions,
    XFrameOptions,
)

__all__ = ["security_headers", "CSP"]

CSP = (
    ContentSecurityPolicy()
    .default_src("'self'")
    .script_src("'self'")
    .style_src("'self'")
    .style_src_attr("'unsafe-inline'")
    .img_src("'self'", "data:")
    .connect_src("'self'")
    .object_src("'none'")
    .base_uri("'none'")
    .form_action("'self'")
    .frame_ancestors("'none'")
)


def _common(**extra) -> dict:
    return dict(
        csp=CSP,
        xcto=XContentTypeOptions(),
        xfo=XFrameOptions().deny(),
        referrer=ReferrerPolicy().same_origin(),
        coop=CrossOriginOpenerPolicy().same_origin(),
        corp=CrossOriginResourcePolicy().same_origin(),
        permissions=PermissionsPolicy().geolocation().camera().microphone().payment().usb(),
        **extra,
    )


_NO_STORE = CacheControl().no_store()
_HSTS = StrictTransportSecurity().max_age(31_536_000).include_subdomains()
_POLICIES = {
    (tls, static): Secure(**_common(**({"hsts": _HSTS} if tls else {}), **({} if static else {"cache": _NO_STORE})))
    for tls in (False, True)
    for static in (False, True)
}


def security_headers(request: Request, response: Response) -> None:
    static = request.url.path.startswith("/static/")
    _POLICIES[(request.url.scheme == "https", static)].set_headers(response)
