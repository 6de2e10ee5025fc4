package jobs

import (
	"context"

	"github.com/koeiq/syncd/salesforce"
)

// TEMPORARY until salesforce.Client.QueryMany lands.
func queryMany(ctx context.Context, client *salesforce.Client, queries ...string) ([][]salesforce.Fields, error) {
	out := make([][]salesforce.Fields, len(queries))
	for i, q := range queries {
		r, err := client.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}
