"""The one catalogue of user-facing error messages, in English and Chinese.

Services and routes raise errors with a catalogue entry and its named parameters
(``InvalidRequest(msg.TASK_NOT_FOUND())``); the text is chosen at the HTTP boundary in the
language the request prefers (:func:`preferred_language` reads ``Accept-Language`` with its
q-values: ``zh``, ``zh-CN``, ``zh-TW``… give Chinese, anything else English). Codes and error
shapes never change with the language. Parameters that are themselves :class:`Text` render in the
same language, and so does a :class:`MessageError` (the ``ValueError`` the domain and media
layers refuse a value with); other values (field names, numbers, an upstream's own words) are
inserted as given. The entries live in the sibling modules by area (``common``, ``dialects``,
``forms``, ``values``); every one is reached here as ``msg.X``. The English templates are the
texts clients and tests have always seen: change them only with the contract.
"""

from __future__ import annotations

from lumagate.domain.messages.catalogue import *  # noqa: F403
from lumagate.domain.messages.common import *  # noqa: F403
from lumagate.domain.messages.dialects import *  # noqa: F403
from lumagate.domain.messages.forms import *  # noqa: F403
from lumagate.domain.messages.values import *  # noqa: F403
