// Package krm runs a KRM function over a ResourceList (the KRM Functions
// Specification's input and output) with kyaml's kio, as kyaml's
// fn/framework.Execute does, and holds the results a function reports.
//
// It exists for speed: kustomize starts one kmsgen process per generator,
// and importing fn/framework costs every one of them about 2.5 ms of
// package initialisation (its OpenAPI validation pulls in kube-openapi's
// strfmt and govalidator, which compile regular expressions at start-up),
// for validation kmsgen does not use. Execute, ResourceList and Result
// keep framework's behaviour and YAML shapes; krm's tests hold them to
// framework's, output for output.
package krm
