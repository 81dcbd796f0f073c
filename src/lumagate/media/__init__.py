"""The gateway's own media: validated client images and the content-addressed file store.

Clients send images as http(s) URLs or ``data:`` URIs (:mod:`lumagate.media.images` decides which
and checks the bytes are really an image); data URIs and produced files are kept on disk by
:class:`lumagate.media.store.MediaStore` and referenced as ``media:<key>`` until a response turns
them into ``<public url>/files/<key>`` links.
"""
