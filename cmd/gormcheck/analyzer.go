package main

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// Analyzer reports statements that drop a *gorm.DB: an expression
// statement, a defer or go of a chain, or an assignment of one to _ only.
var Analyzer = &analysis.Analyzer{
	Name:     "gormcheck",
	Doc:      "report GORM chains whose *gorm.DB, and so whose .Error, is dropped",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

func run(pass *analysis.Pass) (any, error) {
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	nodes := []ast.Node{(*ast.ExprStmt)(nil), (*ast.DeferStmt)(nil), (*ast.GoStmt)(nil), (*ast.AssignStmt)(nil)}
	in.Preorder(nodes, func(n ast.Node) {
		switch s := n.(type) {
		case *ast.ExprStmt:
			report(pass, s.X, "")
		case *ast.DeferStmt:
			report(pass, s.Call, "deferred ")
		case *ast.GoStmt:
			report(pass, s.Call, "go ")
		case *ast.AssignStmt:
			if len(s.Lhs) == 1 && len(s.Rhs) == 1 && isBlank(s.Lhs[0]) {
				report(pass, s.Rhs[0], "blank-assigned ")
			}
		}
	})
	return nil, nil
}

func report(pass *analysis.Pass, e ast.Expr, how string) {
	if isGormDB(pass.TypesInfo.TypeOf(e)) {
		pass.Reportf(e.Pos(), "%sGORM chain's *gorm.DB is dropped: its .Error is never read", how)
	}
}

// isGormDB reports whether t is *gorm.io/gorm.DB.
func isGormDB(t types.Type) bool {
	p, ok := t.(*types.Pointer)
	if !ok {
		return false
	}
	n, ok := p.Elem().(*types.Named)
	if !ok {
		return false
	}
	obj := n.Obj()
	return obj.Name() == "DB" && obj.Pkg() != nil && obj.Pkg().Path() == "gorm.io/gorm"
}

func isBlank(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "_"
}
