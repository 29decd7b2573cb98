"""`faturas serve`: the dashboard and API under uvicorn, optionally with the service's jobs in the same process."""

from __future__ import annotations

from config.context import AppContext


def proxy_options(trusted: tuple[str, ...]) -> dict:
    """Uvicorn's proxy options: X-Forwarded-* are read only when sent by one of `trusted` (none by default).

    Trusting them from anyone lets any client pick the address the login rate limit counts.
    """
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(trusted)}


def serve_dashboard(app: AppContext, *, host: str, port: int, with_worker: bool) -> None:
    """Serve until interrupted, with the service's jobs beside it when `with_worker` is set.

    With the worker, the dashboard's "Aderir automaticamente" wakes the service's adhesion job instead of
    starting a second browser.

    On SQLite, starting the service is refused (a ConfigurationError, exit 3) when another worker runs.
    """
    import uvicorn

    from web.app import create_app
    from web.services.adhesion import ServiceAdhesionRunner

    service = None
    runner = None
    if with_worker:
        from service.scheduler import Service

        service = Service(app)
        service.start()
        runner = ServiceAdhesionRunner(app, wake=service.adhere_now)  # one bot per unit: the service's
    try:
        uvicorn.run(create_app(app, runner=runner), host=host, port=port, log_level=app.settings.log_level,
                    **proxy_options(app.settings.web_trusted_proxies))
    finally:
        if service is not None:
            service.shutdown()
