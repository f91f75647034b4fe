"""Typed records: pydantic models whose JSON (by alias, camelCase) is the HTTP contract.

Every class here is named after a component schema of ``openapi.yaml``; ``model.dump()`` gives
exactly what ``--json`` prints and what the API serves. Extra fields (``Asset.filename``...)
are additions the schema allows; nothing the schema requires is left out.

One module per part of the contract (:mod:`.library`: sign-in, projects, assets, uploads;
:mod:`.culling`: clusters, cull actions, edits, search; :mod:`.delivery`: galleries,
exports, jobs) over :mod:`.base`; import them from here.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
