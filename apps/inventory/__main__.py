from apps.inventory.main import create_inventory_app
from apps.inventory.settings import InventorySettings
from apps.kit.server import serve

serve(create_inventory_app, InventorySettings)
