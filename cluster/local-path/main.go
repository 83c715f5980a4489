// level5-local-path: a dynamic provisioner for the single-node local cluster. Each PersistentVolumeClaim of
// the level5-local-path StorageClass gets a directory under --base-dir on the node and a hostPath
// PersistentVolume pinned to that node; deleting a volume whose reclaim policy is Delete removes the
// directory. The claim/volume lifecycle (binding, retries, events, finalizers) is the Kubernetes
// sig-storage provisioner library's; this file only makes and removes directories. It runs on the host
// like kubelet, so the directories are the node's own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/sig-storage-lib-external-provisioner/v13/controller"
)

const provisionerName = "level5.dev/local-path"

type localPath struct {
	baseDir string
	node    string
}

func (p *localPath) dir(pvName string) string { return filepath.Join(p.baseDir, pvName) }

func (p *localPath) Provision(_ context.Context, opts controller.ProvisionOptions) (*v1.PersistentVolume, controller.ProvisioningState, error) {
	if opts.PVC.Spec.Selector != nil {
		return nil, controller.ProvisioningFinished, errors.New("claim selectors are not supported")
	}
	path := p.dir(opts.PVName)
	// World-writable like other local-path provisioners: a hostPath volume ignores the pod's fsGroup, and
	// the directory belongs to one claim only.
	if err := os.MkdirAll(path, 0o777); err != nil {
		return nil, controller.ProvisioningFinished, fmt.Errorf("creating %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o777); err != nil {
		return nil, controller.ProvisioningFinished, fmt.Errorf("chmod %s: %w", path, err)
	}
	hostPathType := v1.HostPathDirectory
	reclaim := v1.PersistentVolumeReclaimDelete
	if opts.StorageClass.ReclaimPolicy != nil {
		reclaim = *opts.StorageClass.ReclaimPolicy
	}
	pv := &v1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: opts.PVName},
		Spec: v1.PersistentVolumeSpec{
			PersistentVolumeReclaimPolicy: reclaim,
			AccessModes:                   opts.PVC.Spec.AccessModes,
			MountOptions:                  opts.StorageClass.MountOptions,
			Capacity:                      v1.ResourceList{v1.ResourceStorage: opts.PVC.Spec.Resources.Requests[v1.ResourceStorage]},
			PersistentVolumeSource: v1.PersistentVolumeSource{
				HostPath: &v1.HostPathVolumeSource{Path: path, Type: &hostPathType},
			},
			NodeAffinity: &v1.VolumeNodeAffinity{Required: &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{{
				MatchExpressions: []v1.NodeSelectorRequirement{{
					Key: "kubernetes.io/hostname", Operator: v1.NodeSelectorOpIn, Values: []string{p.node},
				}},
			}}}},
		},
	}
	return pv, controller.ProvisioningFinished, nil
}

func (p *localPath) Delete(_ context.Context, pv *v1.PersistentVolume) error {
	source := pv.Spec.HostPath
	if source == nil || !strings.HasPrefix(source.Path, p.baseDir+string(filepath.Separator)) {
		return &controller.IgnoredError{Reason: "not a volume of this provisioner"}
	}
	return os.RemoveAll(source.Path)
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster")
	baseDir := flag.String("base-dir", "/var/lib/level5-local-path", "directory holding the volumes")
	node := flag.String("node", "", "name of the node the volumes are on")
	klog.InitFlags(nil)
	flag.Parse()
	if *node == "" {
		klog.Fatal("--node is required")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		klog.Fatalf("kubeconfig: %v", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		klog.Fatalf("client: %v", err)
	}
	if err := os.MkdirAll(*baseDir, 0o755); err != nil {
		klog.Fatalf("base dir: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	abs, err := filepath.Abs(*baseDir)
	if err != nil {
		klog.Fatalf("base dir: %v", err)
	}
	pc := controller.NewProvisionController(ctx, client, provisionerName, &localPath{baseDir: abs, node: *node},
		controller.LeaderElection(false))
	pc.Run(ctx)
}
