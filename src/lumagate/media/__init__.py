"""The gateway's own media: validated client images and the content-addressed file store.

Clients send images as http(s) URLs or ``data:`` URIs (:mod:`lumagate.media.images` decides which
and checks the bytes are really an image); data URIs and produced files are kept by
:class:`lumagate.media.store.MediaStore` — in the data dir or in S3-compatible storage, the two
:class:`~lumagate.media.backend.MediaBackend` implementations — and referenced as
``media:<key>`` until a response turns them into ``<public url>/files/<key>`` links.
"""
