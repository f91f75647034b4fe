"""Moments, bursts and duplicate groups, in one package:

* :mod:`kilo.cluster.algorithms`: clustering of plain items (time, camera, hashes, vectors);
  no catalog;
* :mod:`kilo.cluster.build`: clusters and ranked winners with their reasons, from a
  project's rows;
* :mod:`kilo.cluster.store`: the clusters in the catalog: list, get, update, split, merge
  (a winner is chosen with :func:`kilo.cull.pick_winner`);
* :mod:`kilo.cluster.recluster`: a fresh clustering stored stably across re-runs (ids and
  a person's decisions kept);
* :mod:`kilo.cluster.jobs`: the ``project.cluster`` job that reads, builds and stores.

>>> from kilo.cluster import list_clusters
>>> for c in list_clusters(catalog, project_id, kind="burst").items:   # doctest: +SKIP
...     print(c.winner_asset_id, c.why_winner)
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
