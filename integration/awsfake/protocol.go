package awsfake

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// This file holds the wire-format helpers shared by the services: the AWS
// query protocol (STS, IAM), JSON 1.1 (KMS) and REST-XML (S3).

const (
	iamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	s3Namespace  = "http://s3.amazonaws.com/doc/2006-03-01/"
)

// parseQuery decodes a query-protocol form and sets r.op from Action.
func parseQuery(r *request) (url.Values, *apiError) {
	form, err := url.ParseQuery(string(r.body))
	if err != nil {
		return nil, errf(http.StatusBadRequest, "MalformedQueryString", "cannot parse form: %v", err)
	}
	for k, v := range r.http.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	r.op = form.Get("Action")
	if r.op == "" {
		return nil, errf(http.StatusBadRequest, "MissingAction", "Missing Action")
	}
	return form, nil
}

// queryReply wraps result in <OpResponse><OpResult>…</OpResult><ResponseMetadata>.
// A nil result gives a response with metadata only.
func queryReply(r *request, ns string, result any) (*reply, *apiError) {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	root := xml.StartElement{Name: xml.Name{Local: r.op + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: ns}}}
	_ = enc.EncodeToken(root)
	if result != nil {
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: r.op + "Result"}}); err != nil {
			return nil, errf(http.StatusInternalServerError, "InternalFailure", "encode: %v", err)
		}
	}
	meta := struct {
		RequestID string `xml:"RequestId"`
	}{r.reqID}
	_ = enc.EncodeElement(meta, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	_ = enc.EncodeToken(root.End())
	_ = enc.Flush()
	return &reply{contentType: "text/xml", body: buf.Bytes()}, nil
}

// members is a query-protocol list: <Name><member>…</member></Name>, with
// an empty <Name/> for an empty list as AWS sends it.
type members[T any] []T

func (m members[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, v := range m {
		if err := e.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: "member"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// writeQueryError writes the query protocol's <ErrorResponse>.
func writeQueryError(w http.ResponseWriter, r *request, e *apiError) {
	type errBody struct {
		Type    string
		Code    string
		Message string
	}
	typ := "Sender"
	if e.status >= 500 {
		typ = "Receiver"
	}
	body := struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Xmlns     string   `xml:"xmlns,attr,omitempty"`
		Error     errBody
		RequestID string `xml:"RequestId"`
	}{Error: errBody{typ, e.code, e.message}, RequestID: r.reqID}
	switch r.service {
	case "iam":
		body.Xmlns = iamNamespace
	case "sts":
		body.Xmlns = stsNamespace
	}
	out, _ := xml.Marshal(body)
	writeRaw(w, r, e, "text/xml", out)
}

// jsonReply answers a JSON 1.1 request.
func jsonReply(v any) (*reply, *apiError) {
	out, err := json.Marshal(v)
	if err != nil {
		return nil, errf(http.StatusInternalServerError, "KMSInternalException", "encode: %v", err)
	}
	return &reply{contentType: "application/x-amz-json-1.1", body: out}, nil
}

// writeJSONError writes {"__type":…,"message":…}.
func writeJSONError(w http.ResponseWriter, r *request, e *apiError) {
	out, _ := json.Marshal(map[string]string{"__type": e.code, "message": e.message})
	w.Header().Set("x-amzn-ErrorType", e.code)
	writeRaw(w, r, e, "application/x-amz-json-1.1", out)
}

// xmlReply answers a REST-XML request with v marshalled under name.
func xmlReply(name string, v any) (*reply, *apiError) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	start := xml.StartElement{Name: xml.Name{Local: name},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: s3Namespace}}}
	if err := enc.EncodeElement(v, start); err != nil {
		return nil, errf(http.StatusInternalServerError, "InternalError", "encode: %v", err)
	}
	return &reply{contentType: "application/xml", body: buf.Bytes()}, nil
}

// writeS3Error writes S3's <Error> document (no body for HEAD).
func writeS3Error(w http.ResponseWriter, r *request, e *apiError) {
	body := struct {
		XMLName    xml.Name `xml:"Error"`
		Code       string
		Message    string
		BucketName string `xml:",omitempty"`
		RequestID  string `xml:"RequestId"`
		HostID     string `xml:"HostId"`
	}{Code: e.code, Message: e.message, BucketName: e.bucket, RequestID: r.reqID, HostID: r.reqID}
	out, _ := xml.Marshal(body)
	w.Header().Set("x-amz-request-id", r.reqID)
	w.Header().Set("x-amz-id-2", r.reqID)
	writeRaw(w, r, e, "application/xml", append([]byte(xml.Header), out...))
}

func writeRaw(w http.ResponseWriter, r *request, e *apiError, contentType string, body []byte) {
	h := w.Header()
	h.Set("x-amzn-RequestId", r.reqID)
	for k, v := range e.header {
		h.Set(k, v)
	}
	if e.noBody || r.http.Method == http.MethodHead {
		w.WriteHeader(e.status)
		return
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// isoTime formats a timestamp as the query and REST-XML protocols do.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// epoch formats a timestamp as JSON 1.1 does (seconds, fractional).
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// urlEncodeDocument encodes a policy document as IAM returns it (RFC 3986).
func urlEncodeDocument(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

// paginate returns the page of items starting at marker (an index written
// by a previous page) with at most limit items; limitText "" means def.
func paginate[T any](items []T, marker, limitText string, def, max int) (page []T, next string, truncated bool, e *apiError) {
	limit := def
	if limitText != "" {
		n, err := strconv.Atoi(limitText)
		if err != nil || n < 1 || n > max {
			return nil, "", false, errf(http.StatusBadRequest, "ValidationError",
				"1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and %d", limitText, max)
		}
		limit = n
	}
	start := 0
	if marker != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(marker, "m"))
		if err != nil || n < 0 || n > len(items) || !strings.HasPrefix(marker, "m") {
			return nil, "", false, errf(http.StatusBadRequest, "InvalidInput", "Invalid Marker %q", marker)
		}
		start = n
	}
	end := min(start+limit, len(items))
	if end < len(items) {
		return items[start:end], "m" + strconv.Itoa(end), true, nil
	}
	return items[start:end], "", false, nil
}
