package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// target is one line of the table: what is measured and the limit.
type target struct {
	name  string
	limit string
	run   func(ctx context.Context, e *benchEnv, runs int) (row, error)
}

var targets = []target{
	{"one generator, 20-key env file, http", "≤ 1.60× builtin", oneGenerator(false, 1.6)},
	{"one generator, 20-key env file, https", "≤ 2.00× builtin", oneGenerator(true, 2.0)},
	{"marginal cost per generator (100), https", "≤ 8 ms", manyGenerators},
	{"marginal cost per generator (100), trivial Go exec function", "reference", trivialGenerators},
	{"200 literals, 20 ms latency, https", "≤ 300 ms", literals20ms},
	{"200 literals, 50 ms latency, vs one call in flight", "≥ 20× faster", literalsSpeedup},
	{"identical ciphertexts in text, wrapped and raw forms", "1 Decrypt call", identicalForms},
	{"20 env files, 20 ms latency, vs 20 × sops -d", "≥ 8× faster", versusSops},
	{"peak RSS, 1 MiB of Secret data", "≤ 32 MiB", peakMemory},
}

// kustomizeBuild times `kustomize build --enable-alpha-plugins --enable-exec`.
func (e *benchEnv) kustomizeBuild(dir string, env []string) func() (time.Duration, error) {
	return func() (time.Duration, error) {
		d, err := timed(dir, env, nil, e.kustomize, "build", "--enable-alpha-plugins", "--enable-exec", ".")
		return d, err
	}
}

// pair builds a kmsgen tree and a builtin secretGenerator tree of n
// generators, each of one 20-key env file, and times both builds.
func (e *benchEnv) pair(ctx context.Context, name string, n int, p *proxy, runs int) (kmsgen, builtin time.Duration, err error) {
	kmsgenFiles := map[string]string{}
	builtinFiles := map[string]string{}
	var gens, builtins strings.Builder
	for i := range n {
		env := envFile(20, fmt.Sprint(i))
		ct, err := e.seal(ctx, env)
		if err != nil {
			return 0, 0, err
		}
		kmsgenFiles[fmt.Sprintf("env%03d.env.encrypted", i)] = ct
		kmsgenFiles[fmt.Sprintf("gen%03d.yaml", i)] = generator(fmt.Sprintf("secret-%03d", i), fmt.Sprintf("envs: [env%03d.env.encrypted]\n", i))
		fmt.Fprintf(&gens, "- gen%03d.yaml\n", i)
		builtinFiles[fmt.Sprintf("env%03d.env", i)] = env
		fmt.Fprintf(&builtins, "- name: secret-%03d\n  envs: [env%03d.env]\n", i, i)
	}
	kmsgenFiles["kustomization.yaml"] = "generators:\n" + gens.String()
	builtinFiles["kustomization.yaml"] = "secretGenerator:\n" + builtins.String()
	a, err := e.tree(name+"-kmsgen", kmsgenFiles)
	if err != nil {
		return 0, 0, err
	}
	b, err := e.tree(name+"-builtin", builtinFiles)
	if err != nil {
		return 0, 0, err
	}
	env := e.env(p)
	return paired(runs, e.kustomizeBuild(a, env), e.kustomizeBuild(b, env))
}

func oneGenerator(https bool, limit float64) func(context.Context, *benchEnv, int) (row, error) {
	return func(ctx context.Context, e *benchEnv, runs int) (row, error) {
		p, name := e.http, "one-http"
		if https {
			p, name = e.https, "one-https"
		}
		a, b, err := e.pair(ctx, name, 1, p, runs)
		if err != nil {
			return row{}, err
		}
		ratio := float64(a) / float64(b)
		return row{measured: fmt.Sprintf("%.2f×", ratio), pass: ratio <= limit,
			detail: fmt.Sprintf("kmsgen %s, builtin %s", ms(a), ms(b))}, nil
	}
}

func manyGenerators(ctx context.Context, e *benchEnv, runs int) (row, error) {
	a, b, err := e.pair(ctx, "hundred-https", 100, e.https, runs)
	if err != nil {
		return row{}, err
	}
	per := (a - b) / 100
	return row{measured: ms(per), pass: per <= 8*time.Millisecond,
		detail: fmt.Sprintf("100 kmsgen %s, 100 builtin %s", ms(a), ms(b))}, nil
}

// trivialGenerators times 100 generators of bench/trivialfn, which reads its
// input and prints a Secret, against 100 builtin ones: what kustomize and a
// Go process cost per exec generator before the generator does anything.
func trivialGenerators(ctx context.Context, e *benchEnv, runs int) (row, error) {
	files := map[string]string{}
	builtin := map[string]string{}
	var gens, builtins strings.Builder
	for i := range 100 {
		files[fmt.Sprintf("gen%03d.yaml", i)] = fmt.Sprintf("apiVersion: bench.kmsgen.dev/v1\nkind: Trivial\nmetadata:\n  name: t%03d\n"+
			"  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: trivialfn\n", i)
		fmt.Fprintf(&gens, "- gen%03d.yaml\n", i)
		builtin[fmt.Sprintf("env%03d.env", i)] = "A=a\n"
		fmt.Fprintf(&builtins, "- name: secret-%03d\n  envs: [env%03d.env]\n", i, i)
	}
	files["kustomization.yaml"] = "generators:\n" + gens.String()
	builtin["kustomization.yaml"] = "secretGenerator:\n" + builtins.String()
	a, err := e.tree("trivial", files)
	if err != nil {
		return row{}, err
	}
	b, err := e.tree("trivial-builtin", builtin)
	if err != nil {
		return row{}, err
	}
	env := e.env(e.http)
	ta, tb, err := paired(runs, e.kustomizeBuild(a, env), e.kustomizeBuild(b, env))
	if err != nil {
		return row{}, err
	}
	return row{measured: ms((ta - tb) / 100), pass: true,
		detail: fmt.Sprintf("100 trivial %s, 100 builtin %s", ms(ta), ms(tb))}, nil
}

// literalsTree is one generator of 200 literals, each its own ciphertext.
func (e *benchEnv) literalsTree(ctx context.Context, name string) (string, error) {
	var lits strings.Builder
	for i := range 200 {
		ct, err := e.seal(ctx, fmt.Sprintf("value-%03d", i))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&lits, "- K%03d=%s\n", i, ct)
	}
	return e.tree(name, map[string]string{
		"kustomization.yaml": "generators: [gen.yaml]\n",
		"gen.yaml":           generator("literals", "literals:\n"+lits.String()),
	})
}

func literals20ms(ctx context.Context, e *benchEnv, runs int) (row, error) {
	dir, err := e.literalsTree(ctx, "literals-20ms")
	if err != nil {
		return row{}, err
	}
	e.https.setDelay(20 * time.Millisecond)
	defer e.https.setDelay(0)
	e.https.reset()
	build := e.kustomizeBuild(dir, e.env(e.https))
	var ds []time.Duration
	for i := -1; i < runs; i++ {
		d, err := build()
		if err != nil {
			return row{}, err
		}
		if i >= 0 {
			ds = append(ds, d)
		}
	}
	m := median(ds)
	calls, conns := e.https.reset()
	return row{measured: ms(m), pass: m <= 300*time.Millisecond,
		detail: fmt.Sprintf("%d Decrypt calls, %d connections over %d builds; failed calls: %v", calls["Decrypt"], conns, runs+1, failures(calls))}, nil
}

func literalsSpeedup(ctx context.Context, e *benchEnv, runs int) (row, error) {
	dir, err := e.literalsTree(ctx, "literals-50ms")
	if err != nil {
		return row{}, err
	}
	e.https.setDelay(50 * time.Millisecond)
	defer e.https.setDelay(0)
	runs = min(runs, 3) // one call in flight takes 200 × 50 ms a build
	a, b, err := paired(runs, e.kustomizeBuild(dir, e.env(e.https)), e.kustomizeBuild(dir, e.env(e.https, "KMSGEN_CONCURRENCY=1")))
	if err != nil {
		return row{}, err
	}
	speedup := float64(b) / float64(a)
	return row{measured: fmt.Sprintf("%.1f×", speedup), pass: speedup >= 20,
		detail: fmt.Sprintf("default %s, KMSGEN_CONCURRENCY=1 %s", ms(a), ms(b))}, nil
}

func identicalForms(ctx context.Context, e *benchEnv, _ int) (row, error) {
	text, err := e.seal(ctx, "the same value")
	if err != nil {
		return row{}, err
	}
	blob, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return row{}, err
	}
	var wrapped strings.Builder
	for i := 0; i < len(text); i += 64 {
		wrapped.WriteString(text[i:min(i+64, len(text))] + "\n")
	}
	dir, err := e.tree("forms", map[string]string{
		"kustomization.yaml": "generators: [gen.yaml]\n",
		"gen.yaml":           generator("forms", "literals: [TEXT="+text+"]\nfiles: [wrapped=wrapped.encrypted, raw=raw.encrypted]\n"),
		"wrapped.encrypted":  wrapped.String(),
		"raw.encrypted":      string(blob),
	})
	if err != nil {
		return row{}, err
	}
	e.http.reset()
	if _, err := e.kustomizeBuild(dir, e.env(e.http))(); err != nil {
		return row{}, err
	}
	calls, _ := e.http.reset()
	return row{measured: fmt.Sprintf("%d Decrypt call(s)", calls["Decrypt"]), pass: calls["Decrypt"] == 1,
		detail: "one ciphertext as a text literal, a wrapped text file and a raw file"}, nil
}

func versusSops(ctx context.Context, e *benchEnv, runs int) (row, error) {
	if e.sops == "" {
		return row{measured: "not run", detail: "sops is not on PATH (make bench installs it)"}, nil
	}
	files := map[string]string{"kustomization.yaml": "generators: [gen.yaml]\n"}
	var envs []string
	var script strings.Builder
	script.WriteString("set -e\n")
	for i := range 20 {
		env := envFile(20, fmt.Sprint(i))
		ct, err := e.seal(ctx, env)
		if err != nil {
			return row{}, err
		}
		files[fmt.Sprintf("e%02d.env.encrypted", i)] = ct
		envs = append(envs, fmt.Sprintf("e%02d.env.encrypted", i))
		files[fmt.Sprintf("plain/e%02d.env", i)] = env
		fmt.Fprintf(&script, "sops -d --input-type dotenv --output-type dotenv sops/e%02d.env >/dev/null\n", i)
	}
	files["gen.yaml"] = generator("twenty", "envs: ["+strings.Join(envs, ", ")+"]\n")
	dir, err := e.tree("sops", files)
	if err != nil {
		return row{}, err
	}
	if err := e.sopsEncrypt(dir); err != nil {
		return row{}, err
	}
	os.WriteFile(filepath.Join(dir, "decrypt.sh"), []byte(script.String()), 0o755)
	e.https.setDelay(20 * time.Millisecond)
	defer e.https.setDelay(0)
	env := e.env(e.https)
	sops := func() (time.Duration, error) {
		d, err := timed(dir, env, nil, "bash", "decrypt.sh")
		return d, err
	}
	a, b, err := paired(runs, e.kustomizeBuild(dir, env), sops)
	if err != nil {
		return row{}, err
	}
	speedup := float64(b) / float64(a)
	return row{measured: fmt.Sprintf("%.1f×", speedup), pass: speedup >= 8,
		detail: fmt.Sprintf("kmsgen (one build) %s, sops (20 runs) %s", ms(a), ms(b))}, nil
}

// sopsEncrypt encrypts plain/*.env with sops under the bench key into
// sops/, against local-kms directly.
func (e *benchEnv) sopsEncrypt(dir string) error {
	os.MkdirAll(filepath.Join(dir, "sops"), 0o755)
	entries, err := os.ReadDir(filepath.Join(dir, "plain"))
	if err != nil {
		return err
	}
	env := append(os.Environ(), e.kms.Env()...)
	for _, ent := range entries {
		out := filepath.Join(dir, "sops", ent.Name())
		script := fmt.Sprintf("sops -e --kms %s --input-type dotenv --output-type dotenv plain/%s > %s", e.keyARN, ent.Name(), out)
		if _, err := timed(dir, env, nil, "bash", "-c", script); err != nil {
			return err
		}
	}
	return nil
}

func peakMemory(ctx context.Context, e *benchEnv, runs int) (row, error) {
	// 1 MiB of values: four files of 256 KiB, base64 kept readable
	files := map[string]string{}
	var specs []string
	for i := range 4 {
		value := base64.StdEncoding.EncodeToString(randomBytes(192 << 10)) // 256 KiB of text
		env, err := e.sealEnvelope([]byte(value))
		if err != nil {
			return row{}, err
		}
		files[fmt.Sprintf("part%d.encrypted", i)] = env
		specs = append(specs, fmt.Sprintf("part%d.encrypted", i))
	}
	gen := generator("big", "files: ["+strings.Join(specs, ", ")+"]\n")
	dir, err := e.tree("rss", files)
	if err != nil {
		return row{}, err
	}
	input := resourceList(gen)
	var rss []int64
	for range runs {
		r, err := peakRSS(dir, e.env(e.http), []byte(input), e.kmsgen)
		if err != nil {
			return row{}, err
		}
		rss = append(rss, r)
	}
	slices.Sort(rss)
	info, err := os.Stat(e.kmsgen)
	if err != nil {
		return row{}, err
	}
	mib := func(b int64) float64 { return float64(b) / (1 << 20) }
	median := mib(rss[len(rss)/2])
	return row{measured: fmt.Sprintf("%.1f MiB", median), pass: median <= 32,
		detail: fmt.Sprintf("kmsgen run by itself, %d runs: %.1f–%.1f MiB; stripped binary %.1f MiB", runs, mib(rss[0]), mib(rss[len(rss)-1]), mib(info.Size()))}, nil
}

// failures picks the "status N" counts out of a proxy's counters.
func failures(calls map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range calls {
		if strings.HasPrefix(k, "status ") {
			out[k] = v
		}
	}
	return out
}
