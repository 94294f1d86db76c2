from services.events.bootstrap import connect, create_app
from services.events.settings import EventsSettings

settings = EventsSettings.from_env()
wired = connect(settings)
app = create_app(settings, wired.deps, startup=wired.startup)
