"""Group and rank: the second half of the culling engine, the measurements of many photos
(:mod:`kilo.measure`) turned into moments, bursts and duplicate groups with ranked winners:

* :mod:`kilo.group.algorithms`: clustering of plain items (time, camera, hashes, vectors);
  no catalog;
* :mod:`kilo.group.compare`: burst-relative signals (a frame against its burst);
* :mod:`kilo.group.rank`: the winner ranking of one group, and the weights (the defaults, or
  a photographer's learned ones: :mod:`kilo.cull.taste`);
* :mod:`kilo.group.reasons`: why the winner won, in plain words that are true;
* :mod:`kilo.group.inputs`: the rank inputs read from the catalog (signals, thumbnails for the
  burst comparisons, the owner's weights), for the cluster job and every re-rank alike;
* :mod:`kilo.group.build`: clusters and ranked winners with their reasons, from a
  project's rows (:func:`kilo.group.build.rank_group` ranks one group);
* :mod:`kilo.group.clusters`: the clusters in the catalog: list, get, update, split, merge
  (a winner is chosen with :func:`kilo.cull.pick_winner`); a change re-ranks the group as
  the cluster job would;
* :mod:`kilo.group.recluster`: a fresh clustering stored stably across re-runs (ids and
  a person's decisions kept);
* :mod:`kilo.group.handlers`: the ``project.cluster`` job that reads, builds and stores.

>>> from kilo.group import list_clusters
>>> for c in list_clusters(catalog, project_id, kind="burst").items:   # doctest: +SKIP
...     print(c.winner_asset_id, c.why_winner)
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
