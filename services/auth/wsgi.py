from services.auth.bootstrap import create_app

app = create_app()
