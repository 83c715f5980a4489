#!/usr/bin/env bash
# Make the cluster's PKI with openssl (one CA, as in "Kubernetes the hard way"): API server serving
# cert, client certs for admin, node, controller-manager, scheduler and kube-proxy, the API server's
# kubelet client, the service-account key pair, and a kubeconfig per client.
# Idempotent: existing files are kept, so certificates survive cluster-down/up.
source "$(dirname "$0")/lib.sh"
need openssl "apt-get install -y openssl"

mkdir -p "$PKI_DIR"
cd "$PKI_DIR"

if [[ ! -s ca.key ]]; then
  openssl genrsa -out ca.key 2048 2>/dev/null
  openssl req -x509 -new -nodes -key ca.key -sha256 -days 3650 -subj "/CN=level5-local-ca" -out ca.crt
fi

# cert NAME CN O [SAN]: a key and a CA-signed certificate for one client or server.
cert() {
  local name=$1 cn=$2 o=$3 san=${4:-}
  [[ -s $name.crt ]] && return 0
  openssl genrsa -out "$name.key" 2048 2>/dev/null
  local subj="/CN=$cn"; [[ -n $o ]] && subj="/O=$o$subj"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
  local ext=$name.ext
  { echo "basicConstraints=CA:FALSE"; echo "keyUsage=critical,digitalSignature,keyEncipherment";
    echo "extendedKeyUsage=clientAuth,serverAuth"; [[ -n $san ]] && echo "subjectAltName=$san"; } >"$ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
    -extfile "$ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$ext"
}

cert apiserver kube-apiserver "" \
  "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$SERVICE_IP,IP:$NODE_IP"
cert admin admin system:masters
cert node "system:node:$NODE_NAME" system:nodes "DNS:$NODE_NAME,DNS:localhost,IP:127.0.0.1,IP:$NODE_IP"
cert controller-manager system:kube-controller-manager ""
cert scheduler system:kube-scheduler ""
cert kube-proxy system:kube-proxy ""
cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
if [[ ! -s sa.key ]]; then
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
fi

# kubeconfig NAME: a kubeconfig for client NAME against the local API server.
kubeconfig() {
  local name=$1 out=$LEVEL5_CLUSTER_DIR/$1.kubeconfig
  cat >"$out" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: level5-local
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: $PKI_DIR/ca.crt
users:
- name: $name
  user:
    client-certificate: $PKI_DIR/$name.crt
    client-key: $PKI_DIR/$name.key
contexts:
- name: level5-local
  context: {cluster: level5-local, user: $name}
current-context: level5-local
EOF
}
for c in admin node controller-manager scheduler kube-proxy; do kubeconfig "$c"; done
