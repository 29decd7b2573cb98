"""CLI tests run the real command line against the servers of the packages it drives."""

from tests.bot.conftest import bot_app  # noqa: F401
from tests.processor.conftest import dovecot, mail, smtp_server  # noqa: F401
from tests.simulator.fixtures import simulator, simulator_server  # noqa: F401
