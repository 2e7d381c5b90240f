from apps.kit.server import serve
from apps.procurement.main import create_procurement_app
from apps.procurement.settings import ProcurementSettings

serve(create_procurement_app, ProcurementSettings)
