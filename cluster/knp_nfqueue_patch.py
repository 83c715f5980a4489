"""Patch kube-network-policies: queue with the xtables NFQUEUE target, and police pod-to-node traffic.

Some kernels (ours: CONFIG_NFT_QUEUE unset, CONFIG_NETFILTER_XT_TARGET_NFQUEUE and CONFIG_NFT_COMPAT
set) refuse nftables' native `queue` expression with ENOENT, so kube-network-policies cannot program
its rules. This rewrites each `expr.Queue` into a call of `nfqueueTarget`, added in a new file, which
builds the equivalent xtables target (struct xt_NFQ_info_v3). Usage: knp_nfqueue_patch.py PKG_DIR
"""

import re
import sys
from pathlib import Path

HELPER = '''package networkpolicy

import (
\t"encoding/binary"

\t"github.com/google/nftables/expr"
\t"github.com/google/nftables/xt"
)

// nfqueueTarget queues to queue num through the xtables NFQUEUE target (revision 3):
// struct xt_NFQ_info_v3 { u16 queuenum; u16 queues_total; u16 flags; }, host byte order.
func nfqueueTarget(num uint16, bypass bool) *expr.Target {
\tinfo := make([]byte, 6)
\tbinary.NativeEndian.PutUint16(info[0:], num)
\tbinary.NativeEndian.PutUint16(info[2:], 1)
\tif bypass {
\t\tbinary.NativeEndian.PutUint16(info[4:], 0x01) // NFQ_FLAG_BYPASS
\t}
\tu := xt.Unknown(info)
\treturn &expr.Target{Name: "NFQUEUE", Rev: 3, Info: &u}
}
'''

pkg = Path(sys.argv[1])
block = re.compile(
    r"queue := &expr\.Queue\{Num: (?P<num>[^}]+)\}\n\s*if (?P<cond>[^{]+) \{\n\s*queue\.Flag = expr\.QueueFlagBypass\n\s*\}"
)
inline = re.compile(r"&expr\.Queue\{Num: (?P<num>[^,}]+), Flag: expr\.QueueFlagBypass\}")
count = 0
for path in pkg.glob("*.go"):
    text = path.read_text()
    new, n1 = block.subn(lambda m: f"queue := nfqueueTarget({m['num']}, {m['cond'].strip()})", text)
    new, n2 = inline.subn(lambda m: f"nfqueueTarget({m['num']}, true)", new)
    if n1 or n2:
        path.write_text(new)
        count += n1 + n2
if "&expr.Queue" in "".join(p.read_text() for p in pkg.glob("*.go")):
    sys.exit("knp_nfqueue_patch: an expr.Queue use was not rewritten; the upstream code changed")
if count == 0:
    sys.exit("knp_nfqueue_patch: nothing to patch; the upstream code changed")
# Traffic from a pod to the node itself (the API server, the kubelet) is delivered locally and never
# reaches POSTROUTING, so NetworkPolicy would not apply to it. Build the same filter chain on the
# INPUT hook too, so an isolated pod's packets to the node are judged like any other.
controller = pkg / "controller.go"
text = controller.read_text()
head = (
    "\tchain := nft.AddChain(&nftables.Chain{\n"
    '\t\tName:     "postrouting",\n'
    "\t\tTable:    table,\n"
    "\t\tType:     nftables.ChainTypeFilter,\n"
    "\t\tHooknum:  nftables.ChainHookPostrouting,\n"
    "\t\tPriority: nftables.ChainPriorityRef(*nftables.ChainPriorityNATSource - 5),\n"
    "\t})\n"
)
tail = "\tif c.config.NetfilterBug1766Fix {\n\t\tc.addDNSRacersWorkaroundRules"
start = text.find(head)
end = text.find(tail, start)
if start < 0 or end < 0:
    sys.exit("knp_nfqueue_patch: the postrouting chain code changed upstream; update the patch")
loop_head = (
    "\tfor _, hook := range []struct {\n"
    "\t\tname string\n\t\tnum  *nftables.ChainHook\n\t\tprio *nftables.ChainPriority\n"
    "\t}{\n"
    '\t\t{"postrouting", nftables.ChainHookPostrouting, nftables.ChainPriorityRef(*nftables.ChainPriorityNATSource - 5)},\n'
    '\t\t{"input", nftables.ChainHookInput, nftables.ChainPriorityFilter},\n'
    "\t} {\n"
    "\tchain := nft.AddChain(&nftables.Chain{Name: hook.name, Table: table, Type: nftables.ChainTypeFilter,"
    " Hooknum: hook.num, Priority: hook.prio})\n"
)
text = text[:start] + loop_head + text[start + len(head):end] + "\t}\n\n" + text[end:]
controller.write_text(text)
(pkg / "zz_level5_nfqueue.go").write_text(HELPER)
print(f"knp_nfqueue_patch: rewrote {count} queue expressions")
