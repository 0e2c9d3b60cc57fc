// A tiny workload for checking the node itself (scripts/k8s/cluster.ts): an HTTP server that
// says which pod answered, resolves names with the pod's own resolver (cluster DNS) and fetches a
// URL from inside the pod (pod-to-pod and pod-to-Service traffic). Standard library only.
//
//	GET /            "<pod name>"
//	GET /resolve?name=N   the addresses N resolves to, one a line
//	GET /fetch?url=U      U's status and body, fetched from this pod
//
// `probe get URL` fetches URL once, prints its body and exits (non-zero on failure): what
// `kubectl exec` runs in the pod.
package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "get" {
		res, err := (&http.Client{Timeout: 5 * time.Second}).Get(os.Args[2])
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		io.Copy(os.Stdout, res.Body)
		if res.StatusCode != http.StatusOK {
			log.Fatalf("%s: %s", os.Args[2], res.Status)
		}
		return
	}
	addr := ":8080"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	name, _ := os.Hostname()
	client := &http.Client{Timeout: 5 * time.Second}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, name) })
	http.HandleFunc("/resolve", func(w http.ResponseWriter, r *http.Request) {
		addrs, err := net.LookupHost(r.URL.Query().Get("name"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprintln(w, strings.Join(addrs, "\n"))
	})
	http.HandleFunc("/fetch", func(w http.ResponseWriter, r *http.Request) {
		res, err := client.Get(r.URL.Query().Get("url"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		fmt.Fprintf(w, "%d %s", res.StatusCode, body)
	})
	log.Printf("probe %s listening on %s", name, addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}
