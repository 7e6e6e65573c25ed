package tier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
)

var osGetenv = os.Getenv

// errCaptured stops a request at the wire during a dry run.
var errCaptured = errors.New("tier: request captured for a dry run")

// captureMiddleware records the request the SDK built and stops it.
func captureMiddleware(dst **http.Request, body *[]byte) func(*http.Request, func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	return func(r *http.Request, _ func(*http.Request) (*http.Response, error)) (*http.Response, error) {
		*dst = r
		if r.GetBody != nil {
			if rc, err := r.GetBody(); err == nil {
				var b bytes.Buffer
				_, _ = b.ReadFrom(rc)
				rc.Close()
				*body = b.Bytes()
			}
		} else if r.Body != nil {
			var b bytes.Buffer
			_, _ = b.ReadFrom(r.Body)
			*body = b.Bytes()
		}
		return nil, errCaptured
	}
}

// credentialHeaders are shown as *** by a dry run.
var credentialHeaders = []string{"Authorization", "X-Api-Key", "Api-Key", "Proxy-Authorization", "Cookie"}

func formatRequest(r *http.Request, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL.String())
	names := make([]string, 0, len(r.Header))
	for k := range r.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range r.Header[k] {
			if slices.Contains(credentialHeaders, http.CanonicalHeaderKey(k)) {
				if strings.HasPrefix(v, "Bearer ") {
					v = "Bearer ***"
				} else {
					v = "***"
				}
			}
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString("\n")
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "", "  ") == nil {
		b.Write(pretty.Bytes())
	} else {
		b.Write(body)
	}
	b.WriteString("\n")
	return b.String()
}

// scrub replaces the key wherever it occurs in text.
func (c *Client) scrub(text string) string {
	if len(c.key) >= 4 {
		text = strings.ReplaceAll(text, c.key, "***")
	}
	return text
}

func (c *Client) scrubErr(err error) error {
	if err == nil {
		return nil
	}
	s := c.scrub(err.Error())
	if s == err.Error() {
		return err
	}
	return errors.New(s)
}
