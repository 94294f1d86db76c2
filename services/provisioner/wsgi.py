from services.provisioner import settings as config
from services.provisioner.bootstrap import connect, create_app

settings = config.from_env()
wired = connect(settings)
app = create_app(settings, wired.deps, startup=wired.startup)
