// kube-apiserver for the local control plane: the same main as k8s.io/kubernetes/cmd/kube-apiserver,
// built from a wrapper module because `go install` refuses k8s.io/kubernetes (replace directives).
package main

import (
	"os"
	_ "time/tzdata"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() { os.Exit(cli.Run(app.NewAPIServerCommand())) }
