"""Measure one photo: the first half of the culling engine, each photo on its own.

* :mod:`kilo.measure.signals`: quality signals in [0, 1] (sharpness, exposure, noise, eyes
  open...), the ``signals`` table;
* :mod:`kilo.measure.hashing`: perceptual hashes (pHash, dHash), the ``perceptual_hashes``
  table;
* :mod:`kilo.measure.faces`: faces and eyes (BlazeFace with face mesh and iris, Haar cascades
  without them);
* :mod:`kilo.measure.embed`: CLIP embeddings, the ``embeddings`` table and the
  ``project.embed`` job;
* :mod:`kilo.measure.handlers`: the ``asset.analyze`` job (signals and hashes of one asset).

What the measurements of many photos become (moments, bursts, duplicate groups, ranked
winners) is :mod:`kilo.group`; :func:`kilo.analyze.analyze` runs both on a project. Nothing is
imported here: ``import kilo.measure`` stays light.
"""
