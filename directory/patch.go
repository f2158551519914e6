package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/userdir/userdir/query"
)

// PatchOp is one SCIM PATCH operation (RFC 7644 §3.5.2). Op is "add",
// "replace" or "remove" (any case). Path is a SCIM attribute path, with an
// optional value filter: "name.givenName", `emails[type eq "work"].value`,
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department".
// Without a path, Value is an object of attributes to add or replace.
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// Patch applies ops to the user atomically: all of them or none. Like
// Update it is retried on a concurrent write unless IfVersion is given.
// Read-only attributes (id, schemas, groups, meta) cannot be patched;
// replacing active flips the status between active and disabled.
func (h *Users) Patch(ctx context.Context, id string, ops []PatchOp, opts ...WriteOption) (User, error) {
	return observe(ctx, h.d, OpUserPatch, h.tenant, id, func() (User, error) {
		if len(ops) == 0 {
			return User{}, fieldErr("operations", "no operations")
		}
		// Parse every path before reading, so a bad op changes nothing and
		// costs no read.
		parsed := make([]parsedOp, len(ops))
		for i, op := range ops {
			p, err := parseOp(i, op)
			if err != nil {
				return User{}, err
			}
			parsed[i] = p
		}
		return h.update(ctx, id, func(u *User) error {
			m, err := toMap(u)
			if err != nil {
				return err
			}
			for _, p := range parsed {
				if err := p.apply(m); err != nil {
					return err
				}
			}
			return fromMap(m, u)
		}, opts, OpUserPatch)
	})
}

type parsedOp struct {
	index int
	op    string
	keys  []string           // JSON keys from the top of the user to the attribute
	multi bool               // the attribute at keys is multi-valued
	sub   string             // sub-attribute inside each element, "" for the element itself
	where *query.ValueFilter // bound value filter selecting elements, nil for all
	value any
}

func (p parsedOp) field() string { return fmt.Sprintf("operations[%d].path", p.index) }

var readOnly = map[string]bool{"id": true, "schemas": true, "groups": true, "meta": true}

func parseOp(i int, op PatchOp) (parsedOp, error) {
	p := parsedOp{index: i, op: strings.ToLower(op.Op), value: op.Value}
	switch p.op {
	case "add", "replace", "remove":
	default:
		return p, fieldErr(fmt.Sprintf("operations[%d].op", i), "unknown op %q", op.Op)
	}
	if op.Path == "" {
		if p.op == "remove" {
			return p, fieldErr(p.field(), "remove needs a path")
		}
		if _, ok := op.Value.(map[string]any); !ok {
			return p, fieldErr(fmt.Sprintf("operations[%d].value", i), "without a path the value must be an object")
		}
		return p, nil
	}
	pp, err := query.ParsePath(op.Path)
	if err != nil {
		return p, fmt.Errorf("%s: %w", p.field(), err)
	}
	base := pp.Path.String()
	attr, err := userSchema.Resolve(base)
	if err != nil {
		return p, fmt.Errorf("%s: %w", p.field(), err)
	}
	p.keys = jsonKeys(attr.Name)
	if readOnly[p.keys[0]] {
		return p, fieldErr(p.field(), "%s is read-only", p.keys[0])
	}
	p.multi = attr.Multi && attr.Type == query.TypeComplex
	if pp.Filter != nil {
		if attr.Type != query.TypeComplex || attr.Claims {
			return p, fieldErr(p.field(), "a value filter needs a complex attribute")
		}
		bound, err := query.Bind(&query.ValueFilter{Path: pp.Path, Filter: pp.Filter}, userSchema)
		if err != nil {
			return p, fmt.Errorf("%s: %w", p.field(), err)
		}
		vf, ok := bound.(*query.ValueFilter)
		if !ok {
			return p, fieldErr(p.field(), "unsupported value filter")
		}
		p.where = vf
	}
	if pp.Sub != "" {
		sub, err := userSchema.Resolve(attr.Name + "." + pp.Sub)
		if err != nil {
			return p, fmt.Errorf("%s: %w", p.field(), err)
		}
		p.sub = sub.Name[len(attr.Name)+1:]
	} else if attr.Multi && len(p.keys) > 1 && !attr.Claims {
		// emails.value without a filter: the sub-attribute of every element.
		p.sub = p.keys[len(p.keys)-1]
		p.keys = p.keys[:len(p.keys)-1]
		p.multi = true
	} else if attr.Multi && attr.Type != query.TypeComplex {
		return p, fieldErr(p.field(), "%s cannot be patched", attr.Name)
	}
	if p.op != "remove" && op.Value == nil {
		return p, fieldErr(fmt.Sprintf("operations[%d].value", i), "required for %s", p.op)
	}
	return p, nil
}

// jsonKeys turns a canonical attribute name into the JSON keys that lead
// to it in a user's JSON form.
func jsonKeys(name string) []string {
	if rest, ok := strings.CutPrefix(name, query.EnterpriseURN+":"); ok {
		return append([]string{query.EnterpriseURN}, strings.Split(rest, ".")...)
	}
	return strings.Split(name, ".")
}

func (p parsedOp) apply(m map[string]any) error {
	if p.keys == nil {
		return p.applyRoot(m)
	}
	parent, last := m, p.keys[len(p.keys)-1]
	for _, k := range p.keys[:len(p.keys)-1] {
		child, ok := parent[k].(map[string]any)
		if !ok {
			if p.op == "remove" {
				return nil
			}
			child = map[string]any{}
			parent[k] = child
		}
		parent = child
	}
	if !p.multi {
		return p.applySingle(parent, last)
	}
	return p.applyMulti(parent, last)
}

// applyRoot merges an object of attributes into the user.
func (p parsedOp) applyRoot(m map[string]any) error {
	for k, v := range p.value.(map[string]any) {
		sub := PatchOp{Op: p.op, Path: k, Value: v}
		sp, err := parseOp(p.index, sub)
		if err != nil {
			return err
		}
		if err := sp.apply(m); err != nil {
			return err
		}
	}
	return nil
}

func (p parsedOp) applySingle(parent map[string]any, key string) error {
	if p.where != nil {
		elem, ok := parent[key].(map[string]any)
		if !ok || !p.matches(elem) {
			return fieldErr(p.field(), "no value matches the filter")
		}
		return p.applyElem(parent, key, elem)
	}
	switch p.op {
	case "remove":
		delete(parent, key)
	case "add":
		// Adding an object to a complex attribute merges it.
		if nv, ok := p.value.(map[string]any); ok {
			if cur, ok := parent[key].(map[string]any); ok {
				for k, v := range nv {
					cur[k] = v
				}
				return nil
			}
		}
		parent[key] = p.value
	default:
		parent[key] = p.value
	}
	return nil
}

func (p parsedOp) applyMulti(parent map[string]any, key string) error {
	list, _ := parent[key].([]any)
	if p.where == nil && p.sub == "" {
		switch p.op {
		case "remove":
			delete(parent, key)
		case "replace":
			parent[key] = asList(p.value)
		case "add":
			parent[key] = append(list, asList(p.value)...)
		}
		return nil
	}
	matched := false
	out := list[:0:0]
	for _, e := range list {
		elem, ok := e.(map[string]any)
		if !ok || (p.where != nil && !p.matches(elem)) {
			out = append(out, e)
			continue
		}
		matched = true
		switch {
		case p.op == "remove" && p.sub == "":
			continue
		case p.op == "remove":
			delete(elem, p.sub)
		case p.sub != "":
			elem[p.sub] = p.value
		case p.op == "replace":
			nv, ok := p.value.(map[string]any)
			if !ok {
				return fieldErr(fmt.Sprintf("operations[%d].value", p.index), "must be an object")
			}
			elem = nv
		default:
			nv, ok := p.value.(map[string]any)
			if !ok {
				return fieldErr(fmt.Sprintf("operations[%d].value", p.index), "must be an object")
			}
			for k, v := range nv {
				elem[k] = v
			}
		}
		out = append(out, elem)
	}
	if !matched && p.where != nil {
		return fieldErr(p.field(), "no value matches the filter")
	}
	parent[key] = out
	return nil
}

func (p parsedOp) applyElem(parent map[string]any, key string, elem map[string]any) error {
	switch {
	case p.op == "remove" && p.sub == "":
		delete(parent, key)
	case p.op == "remove":
		delete(elem, p.sub)
	case p.sub != "":
		elem[p.sub] = p.value
	default:
		parent[key] = p.value
	}
	return nil
}

// matches evaluates the op's value filter against one element, by showing
// the evaluator a user whose attribute holds only that element.
func (p parsedOp) matches(elem map[string]any) bool {
	var v any = elem
	if p.multi {
		v = []any{elem}
	}
	for i := len(p.keys) - 1; i > 0; i-- {
		v = map[string]any{p.keys[i]: v}
	}
	return query.Eval(p.where, singleAttr{name: p.keys[0], v: v})
}

type singleAttr struct {
	name string
	v    any
}

func (s singleAttr) Attr(name string) any {
	if name == s.name {
		return s.v
	}
	return nil
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func toMap(u *User) (map[string]any, error) {
	b, err := json.Marshal(u)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// fromMap decodes a patched JSON form back into u. Values of the wrong JSON
// type are reported against the attribute.
func fromMap(m map[string]any, u *User) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fieldErr("value", "not JSON: %v", err)
	}
	var nu User
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&nu); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fieldErr(te.Field, "expected %s, got JSON %s", te.Type, te.Value)
		}
		return fieldErr("value", "%v", err)
	}
	*u = nu
	return nil
}
