from flask import Blueprint

bp = Blueprint("public", __name__, template_folder="../templates")

from tierwatch.web.public import views  # noqa: E402,F401
