"""REFI-QDA exchange (QDA-XML 1.0): what NVivo, ATLAS.ti and MAXQDA read and write.

- ``codebook``: codebooks (``.qdc``, or the ``<CodeBook>`` of a ``.qdpx``) both ways;
- ``project_import``: a whole ``.qdpx`` project into a qualcode project;
- ``archive`` and ``positions``: the archive's files and the tools' ways of counting.
"""
