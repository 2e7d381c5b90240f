from apps.kit.server import serve
from apps.order.main import create_order_app
from apps.order.settings import OrderSettings

serve(create_order_app, OrderSettings)
