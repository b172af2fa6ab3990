"""What the gateway security settings add to the agents' Ingresses: TLS on public routes, upstream mTLS on A2A routes."""

from __future__ import annotations

from typing import Optional

from models.security import GatewaySecuritySettings


def tls_for_public_routes(settings: GatewaySecuritySettings) -> dict:
    """Annotations and `spec.tls` for the public agent Ingresses (built by the agents' ingress builder).

    Higress annotations verified in alibaba/higress v2.2.1 pkg/ingress/kube/annotations
    (redirect.go `ssl-redirect`, downstreamtls.go `tls-min-protocol-version`).
    """
    tls = settings.tls
    if tls.mode == "none":
        return {"annotations": {}, "tls": []}
    annotations: dict[str, str] = {"higress.io/tls-min-protocol-version": tls.min_version}
    if tls.ssl_redirect:
        annotations["higress.io/ssl-redirect"] = "true"
    if tls.mode == "certManager":
        if tls.cluster_issuer:
            annotations["cert-manager.io/cluster-issuer"] = tls.cluster_issuer
        else:
            annotations["cert-manager.io/issuer"] = str(tls.issuer)
    return {"annotations": annotations, "tls": [{"hosts": list(tls.hosts), "secretName": tls.secret_name}]}


def a2a_mtls_annotations(settings: GatewaySecuritySettings, ingress_namespace: str, sni: Optional[str] = None) -> dict:
    """Upstream (gateway -> agent) mTLS annotations for an A2A Ingress; empty when off.

    Verified in alibaba/higress v2.2.1 pkg/ingress/kube/annotations/upstreamtls.go:
    backend-protocol, proxy-ssl-secret (<ns>/<name>: client cert + key + ca.crt),
    proxy-ssl-verify (on|off), proxy-ssl-name, proxy-ssl-server-name (on|off).
    """
    m = settings.internal_mtls
    if not m.enabled:
        return {}
    out = {
        "higress.io/backend-protocol": "HTTPS",
        "higress.io/proxy-ssl-secret": f"{ingress_namespace}/{m.client_secret_name}",
        "higress.io/proxy-ssl-verify": "on" if m.verify else "off",
    }
    if sni:
        out["higress.io/proxy-ssl-name"] = sni
        out["higress.io/proxy-ssl-server-name"] = "on"
    return out
