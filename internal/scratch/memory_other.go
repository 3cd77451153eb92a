//go:build !linux

package scratch

// memoryBacked is false where kmsgen cannot tell: the file goes to the
// temporary directory, and kmsgen edit says so.
func memoryBacked(string) bool { return false }
