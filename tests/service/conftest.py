"""The service runs against the same real servers as the mail pipeline, plus the simulator."""

from tests.processor.conftest import dovecot, mail, smtp_server  # noqa: F401
from tests.simulator.fixtures import simulator, simulator_server  # noqa: F401
from tests.web.conftest import fake_runner, web  # noqa: F401 - webhooks are queued from a dashboard's data
