package controlplane

import (
	"io"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func clientcmdapiConfig(server string, ca []byte, user, token string) *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["knobs-local"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["knobs-local"] = &clientcmdapi.Context{Cluster: "knobs-local", AuthInfo: user}
	cfg.CurrentContext = "knobs-local"
	return cfg
}

// prefixWriter writes each line of a process's output with its name.
func prefixWriter(w io.Writer, name string) io.Writer {
	return &prefixed{w: w, prefix: []byte(name + ": ")}
}

type prefixed struct {
	w      io.Writer
	prefix []byte
	mid    bool
}

func (p *prefixed) Write(b []byte) (int, error) {
	var out []byte
	for _, c := range b {
		if !p.mid {
			out = append(out, p.prefix...)
			p.mid = true
		}
		out = append(out, c)
		if c == '\n' {
			p.mid = false
		}
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}
