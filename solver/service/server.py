"""`dlpe serve`: the app under uvicorn with the settings loaded (solver.service.config)."""

from __future__ import annotations

import uvicorn

from solver.service.app import create_app
from solver.service.config import ServiceSettings
from solver.service.logs import configure
from solver.service.runtime import SolverRuntime


def serve(settings: ServiceSettings) -> None:
    configure(settings.log_level, settings.log_format)
    app = create_app(lambda: SolverRuntime.start(settings))
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower(),
                access_log=False)
