// What the page says about the optional server: only what its /api/health reports, partner by partner.
// A server that answers but has no cut-out service must not read "Server connected".

export const cutoutOnServer = (server) => server.available && server.health?.partners?.api4ai?.configured === true;
export const uploadsOnServer = (server) => server.available && Boolean(server.health?.storage)
  && server.health.storage !== 'none';

export function serverBadge(server) {
  const parts = [cutoutOnServer(server) && 'background removal', uploadsOnServer(server) && 'uploads'].filter(Boolean);
  if (!server.available) {
    return { path: 'device', text: 'Processed on this device',
      title: 'No server answered: every image is processed in this browser and never leaves the device.' };
  }
  if (!parts.length) {
    return { path: 'device', text: 'Processed on this device',
      title: 'A server answered, but it has neither a cut-out service nor storage configured.' };
  }
  const cutout = cutoutOnServer(server)
    ? 'Car photos are cut out by the server (API4.ai).' : 'The server has no cut-out service: car photos are cut out here.';
  const uploads = uploadsOnServer(server) ? ' Results can be uploaded.' : '';
  return { path: 'server', text: `Server: ${parts.join(' + ')}`, title: `${cutout}${uploads} Everything else runs here.` };
}

// What the header's tagline and the footer may promise about where images go, in this deployment.
// Until the server's health is known (`known` false) nothing is promised either way.
export function privacyClaims(server, { known = true } = {}) {
  if (!known) return { state: 'unknown', tagline: 'Image studio in your browser', note: '' };
  const cutout = cutoutOnServer(server);
  const uploads = uploadsOnServer(server);
  if (!cutout && !uploads) {
    return { state: 'local', tagline: 'Image studio in your browser · nothing is uploaded',
      note: 'Every image is processed in this browser; nothing is uploaded.' };
  }
  const onPress = uploads ? ' Results go to this site’s server only when you press “Upload to server”.' : '';
  if (cutout) {
    return { state: 'cutout', tagline: 'Image studio in your browser · car photos are cut out on the server',
      note: 'Car photos are sent to this site’s server to have their background removed (API4.ai) while '
        + 'Background removal is Automatic; everything else is processed in this browser.' + onPress };
  }
  return { state: 'uploads', tagline: 'Processed in your browser · nothing leaves this device unless you upload it',
    note: `Every image is processed in this browser.${onPress}` };
}
