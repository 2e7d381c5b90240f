from apps.auth.main import create_auth_app
from apps.auth.settings import AuthSettings
from apps.kit.server import serve

serve(create_auth_app, AuthSettings)
