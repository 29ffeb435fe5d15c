// Command gormcheck reports a GORM chain whose error is never read: a
// statement such as db.Count(&n) or tx.Model(m).Updates(v) whose *gorm.DB
// is dropped, so that its .Error goes unseen. errcheck cannot see these:
// the error is a field of the result, not a result. make test runs it over
// every package, tests included, where a dropped Count turns a "nothing
// was written" check into one that cannot fail.
package main

import "golang.org/x/tools/go/analysis/singlechecker"

func main() { singlechecker.Main(Analyzer) }
