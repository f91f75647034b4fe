# The names ``import kilo`` gives, each loaded on first use (lazy_loader reads this stub).

__version__: str

from .catalog import (
    Catalog as Catalog,
    open_catalog as open_catalog,
)
from .errors import (
    KiloError as KiloError,
)
from .jobs import (
    run_jobs as run_jobs,
)
from .projects import (
    archive_project as archive_project,
    create_project as create_project,
    get_project as get_project,
    list_projects as list_projects,
    update_project as update_project,
)
from .settings import (
    Settings as Settings,
    load_settings as load_settings,
)
