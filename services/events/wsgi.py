from services.events.bootstrap import create_app

app = create_app()
