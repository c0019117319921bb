package collector

// defaultMatches is DefaultFormat's FindAllSubmatchIndex without the
// regexp engine, about ten times faster: it appends to dst the name and
// value of each match, left to right, as the regexp finds them.
func defaultMatches(line []byte, fn func(name, value []byte)) {
	from := 0 // where the next match may start: the end of the last one
	for i := from; i < len(line); i++ {
		if line[i] != '=' {
			continue
		}
		// The name: name characters, then spaces, before the '='.
		e := i
		for e > from && isSpace(line[e-1]) {
			e--
		}
		s := e
		for s > from && isNameChar(line[s-1]) {
			s--
		}
		if s == e {
			continue
		}
		// The value: greedy, each optional part taken only whole.
		j := i + 1
		for j < len(line) && isSpace(line[j]) {
			j++
		}
		v := j
		if j < len(line) && (line[j] == '+' || line[j] == '-') {
			j++
		}
		j = digits(line, j)
		if j+1 < len(line) && line[j] == '.' && isDigit(line[j+1]) {
			j = digits(line, j+1)
		}
		if j < len(line) && (line[j] == 'e' || line[j] == 'E') {
			k := j + 1
			if k < len(line) && (line[k] == '+' || line[k] == '-') {
				k++
			}
			if k < len(line) && isDigit(line[k]) {
				j = digits(line, k)
			}
		}
		fn(line[s:e], line[v:j])
		from = j
		i = j - 1
	}
}

func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isSpace is RE2's \s.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// isNameChar is [\w|-].
func isNameChar(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c == '_' || c == '|' || c == '-'
}
