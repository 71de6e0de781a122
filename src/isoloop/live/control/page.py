"""The live operator page: one self-contained HTML document served by the control API.

The document is fixed bytes shipped with isoloop (no data, no token, no external
resource), so it is the one response served without a bearer token: a browser
cannot attach a header to a page it navigates to. Everything it shows comes from
`GET /state`, which its script requests with the token taken from the URL fragment
(`http://127.0.0.1:PORT/ui#token=TOKEN`; a fragment is never sent to a server, so
the token is not in any request line or log). A Content-Security-Policy allows only
this page's own inline script and style (by hash) and requests to its own origin.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from types import MappingProxyType

from isoloop.live.control.page_script import PAGE_SCRIPT

__all__ = ["PAGE_HEADERS", "PAGE_HTML", "PAGE_PATH"]

PAGE_PATH = "ui"

_STYLE = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2430;
background:#f2f4f7}
.top{background:#18202c;color:#e8edf3;padding:10px 20px;display:flex;align-items:center;gap:14px}
.top h1{font-size:18px;margin:0;font-weight:600}
.top .spacer{flex:1}
#updated{color:#9fb0c3;font-size:12px}
main{padding:16px 20px}
#summary{display:flex;flex-wrap:wrap;gap:8px 22px;background:#fff;border:1px solid #d9dee5;
border-radius:8px;padding:10px 14px;margin-bottom:16px}
.kv{display:flex;flex-direction:column;min-width:80px}
.kv .k{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:#66758a}
.kv .v{font-size:15px;font-weight:600;font-variant-numeric:tabular-nums}
.strategy{background:#fff;border:1px solid #d9dee5;border-radius:8px;margin-bottom:16px;
padding:12px 14px}
.strategy header{display:flex;align-items:center;gap:10px;margin-bottom:8px}
.strategy h2{font-size:17px;margin:0 6px 0 0}
.metrics{display:flex;flex-wrap:wrap;gap:6px 20px;padding:8px 0 10px;
border-bottom:1px solid #eceff3}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:10px 18px;
margin-top:8px}
.panel h3{font-size:13px;margin:6px 0;color:#39475a}
table{border-collapse:collapse;width:100%;font-size:12.5px;font-variant-numeric:tabular-nums}
th,td{padding:3px 6px;border-bottom:1px solid #eef1f4;text-align:left}
th{color:#66758a;font-weight:600}
td.n{text-align:right}
.empty{color:#8a96a6;font-style:italic;margin:4px 0}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.ok{background:#d8f3e1;color:#146b34}.warn{background:#fff0c8;color:#7a5600}
.bad{background:#fbd9d7;color:#9b1c14}.off{background:#e5e9ee;color:#4a5666}
.up{color:#146b34}.down{color:#b3261e}.flat{color:inherit}
.alert .v,p.alert{color:#b3261e}p.warn{color:#7a5600}
#login{background:#fff;border:1px solid #d9dee5;border-radius:8px;padding:12px;margin-bottom:16px}
#login input{width:360px;padding:4px 6px}
"""

_BODY = """<header class="top"><h1>isoloop live</h1>
<span id="status" class="badge off">connecting</span>
<span class="spacer"></span><span id="updated"></span></header>
<main>
<form id="login" hidden><label>API token (the manager's <code>api.token_env</code>):
<input id="token" type="password" autocomplete="off"></label> <button type="submit">Show</button>
</form>
<section id="summary" class="panel-summary"></section>
<section id="strategies"></section>
</main>"""


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


PAGE_HTML: bytes = (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<meta name="referrer" content="no-referrer">'
    f"<title>isoloop live</title><style>{_STYLE}</style></head>"
    f"<body>{_BODY}<script>{PAGE_SCRIPT}</script></body></html>\n"
).encode()

PAGE_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": (
            f"default-src 'none'; script-src '{_sha256(PAGE_SCRIPT)}'; "
            f"style-src '{_sha256(_STYLE)}'; connect-src 'self'; img-src 'self' data:; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }
)
