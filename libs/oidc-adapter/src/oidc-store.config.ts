import { IsInt, Max, Min } from 'class-validator';
import { Setting } from '@cloakroom/config';
import { MAX_TTL_SECONDS } from '@cloakroom/sealed-store';

/** Settings of the oidc-provider storage. */
export class OidcStoreConfig {
  @Setting(
    'TTL in seconds of stored artefacts that come without an expiry (dynamically registered clients). Nothing is stored forever.',
    30 * 24 * 3600,
  )
  @IsInt()
  @Min(60)
  @Max(MAX_TTL_SECONDS)
  OIDC_STORE_DEFAULT_TTL_SECONDS = 30 * 24 * 3600;
}
