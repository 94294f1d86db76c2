from services.web.bootstrap import connect, create_app
from services.web.settings import WebSettings

settings = WebSettings.from_env()
wired = connect(settings)
app = create_app(settings, wired.deps, startup=wired.startup)
