// Package harden keeps a kmsgen process's memory, which holds decrypted
// values, out of core dumps: the process is made non-dumpable (Linux
// PR_SET_DUMPABLE, which also keeps other processes of the same user from
// attaching with ptrace) and its core file size limit is set to zero, so
// that neither a crash nor a SIGQUIT under GOTRACEBACK=crash writes memory
// to disk.
package harden

// Process hardens the running process. It returns the first step that
// failed; the caller goes on, since a failure here only removes a defence
// in depth, and reports it.
func Process() error { return process() }
