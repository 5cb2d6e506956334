package lifeseq

import (
	"slices"
)

// Shrinks lists smaller sequences than s: one step fewer (a rollback of
// the dropped step goes too, later targets move down), one principal or
// bucket fewer (with every step and grants-file entry that names it), a
// principal without its long inline policy, a bucket without its foreign
// statements.
func (s Sequence) Shrinks() []Sequence {
	var out []Sequence
	for i := len(s.Steps) - 1; i >= 0; i-- {
		out = append(out, s.withoutStep(i))
	}
	for _, p := range s.World.Principals {
		if len(s.World.Principals) > 1 {
			out = append(out, s.without(func(g GrantSpec) bool { return g.Principal == p.ARN }, func(w *World) {
				w.Principals = slices.DeleteFunc(slices.Clone(w.Principals), func(q PrincipalSpec) bool { return q.ARN == p.ARN })
			}, ""))
		}
	}
	for _, b := range s.World.Buckets {
		if len(s.World.Buckets) > 1 {
			out = append(out, s.without(func(g GrantSpec) bool { return g.Bucket == b.Name }, func(w *World) {
				w.Buckets = slices.DeleteFunc(slices.Clone(w.Buckets), func(c BucketSpec) bool { return c.Name == b.Name })
			}, b.Name))
		}
	}
	for i, p := range s.World.Principals {
		if p.Padding > 0 {
			c := s.clone()
			c.World.Principals[i].Padding = 0
			out = append(out, c)
		}
	}
	if s.World.Claimed != nil {
		c := s.clone()
		c.World.Claimed = nil
		out = append(out, c)
	}
	for i, b := range s.World.Buckets {
		if b.DenyHTTP || b.Reader {
			c := s.clone()
			c.World.Buckets[i].DenyHTTP, c.World.Buckets[i].Reader = false, false
			out = append(out, c)
		}
	}
	return out
}

func (s Sequence) clone() Sequence {
	c := s
	c.World.Principals = slices.Clone(s.World.Principals)
	c.World.Buckets = slices.Clone(s.World.Buckets)
	c.World.Keys = slices.Clone(s.World.Keys)
	c.Steps = make([]Step, len(s.Steps))
	for i, st := range s.Steps {
		st.File = slices.Clone(st.File)
		c.Steps[i] = st
	}
	return c
}

// withoutStep drops step i and every rollback of it.
func (s Sequence) withoutStep(i int) Sequence {
	c := s.clone()
	var steps []Step
	var index []int // new index of each old step, -1 if dropped
	for j, st := range c.Steps {
		drop := j == i || (st.Op == OpRollback && (st.Target == i || (st.Target < len(index) && index[st.Target] < 0)))
		if drop {
			index = append(index, -1)
			continue
		}
		if st.Op == OpRollback {
			st.Target = index[st.Target]
		}
		index = append(index, len(steps))
		steps = append(steps, st)
	}
	c.Steps = steps
	return c
}

// without drops a principal or bucket: the world edit, and every step and
// grants-file entry that names it (a re-keying of a dropped bucket too).
func (s Sequence) without(names func(GrantSpec) bool, edit func(*World), bucket string) Sequence {
	c := s.clone()
	edit(&c.World)
	for i := len(c.Steps) - 1; i >= 0; i-- {
		st := c.Steps[i]
		drop := false
		switch st.Op {
		case OpApply, OpRevoke:
			drop = names(*st.Grant)
		case OpSync:
			st.File = slices.DeleteFunc(st.File, names)
			c.Steps[i] = st
			drop = len(st.File) == 0
		case OpRekey:
			drop = st.Bucket == bucket
		}
		if drop {
			c = c.withoutStep(i)
		}
	}
	return c
}
