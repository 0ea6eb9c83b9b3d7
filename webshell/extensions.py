"""Extensions created unbound; create_app binds them."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

db = SQLAlchemy()
login_manager = LoginManager()
csrf = CSRFProtect()
# Origins: engineio checks them on connect (same origin unless KWS_ALLOWED_ORIGINS),
# and the /terminal namespace refuses unauthenticated connections.
socketio = SocketIO()
# The login throttle's storage (RATELIMIT_STORAGE_URI); limits only where a view asks for one.
limiter = Limiter(get_remote_address, strategy="moving-window", headers_enabled=False)
