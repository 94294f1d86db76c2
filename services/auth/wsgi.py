from services.auth.bootstrap import connect, create_app
from services.auth.settings import AuthSettings

settings = AuthSettings.from_env()
wired = connect(settings)
app = create_app(settings, wired.deps, startup=wired.startup)
